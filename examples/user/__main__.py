"""A Portainer user whose password comes from secret stack config.

pulumi config set portainer:url http://127.0.0.1:9000
pulumi config set --secret portainer:apiKey ptr_...
pulumi config set --secret userPassword 'a-long-password'
"""

import pulumi

import pulumi_portainer as portainer

config = pulumi.Config()
user = portainer.User(
    "operator",
    username=config.get("username") or "operator",
    password=config.require_secret("userPassword"),
    role="standard",
)
pulumi.export("user_id", user.user_id)
pulumi.export("username", user.username)
