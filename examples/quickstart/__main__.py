"""The root project: what `scripts/up.sh` deploys to a Portainer.

Config: portainer:url and portainer:apiKey (or PORTAINER_URL / PORTAINER_API_KEY), and a secret
`operatorPassword` for the user it creates.
"""

import pulumi

import pulumi_portainer as portainer

config = pulumi.Config()
server = portainer.get_status()
operator = portainer.User(
    "operator",
    username="quickstart-operator",
    password=config.require_secret("operatorPassword"),
)
pulumi.export("portainer_version", server.version)
pulumi.export("portainer_instance_id", server.instance_id)
pulumi.export("operator_user_id", operator.user_id)
