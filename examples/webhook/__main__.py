"""A Swarm stack and a webhook that force-updates its `web` service (`<stack>_<service>`).

pulumi config set portainer:url http://127.0.0.1:9000
pulumi config set --secret portainer:apiKey ptr_...
pulumi config set endpointId 1                                        # a Swarm environment (default 1)
pulumi config set portainer:publicUrl https://portainer.example.com   # optional: base of the webhook URL
"""

import pulumi

import pulumi_portainer as portainer

endpoint_id = int(pulumi.Config().get("endpointId") or 1)
stack = portainer.Stack(
    "whoami",
    name="whoami",
    endpoint_id=endpoint_id,
    type="swarm",
    file_content="services:\n  web:\n    image: traefik/whoami:latest\n",
)
hook = portainer.Webhook(
    "redeploy-web",
    service_name="whoami_web",  # resolved to the service id when the webhook is created
    endpoint_id=endpoint_id,
    opts=pulumi.ResourceOptions(depends_on=[stack]),
)
pulumi.export("webhook_id", hook.webhook_id)
pulumi.export("webhook_url", hook.url)  # secret: `pulumi stack output --show-secrets webhook_url`
