"""An environment (endpoint) for the local Docker engine, then a stack deployed on it by its id.

pulumi config set portainer:url http://127.0.0.1:9000
pulumi config set --secret portainer:apiKey ptr_...
pulumi config set dockerUrl unix:///var/run/docker.sock   # optional: the engine as Portainer reaches it

Portainer contacts the engine when the environment is created: if it cannot, `pulumi up` fails with
"cannot reach <url>" and leaves nothing behind. The stack refers to the environment through `.id`, which
stays known during update previews. `pulumi destroy` removes the stack first: Portainer refuses to lose
an environment that still has stacks, and so does this provider.
"""

import pulumi

import pulumi_portainer as portainer

COMPOSE = """\
services:
  web:
    image: nginx:1.27-alpine
"""

config = pulumi.Config()
env = portainer.Endpoint(
    "local-docker",
    name=config.get("environmentName") or "example-local-docker",
    type="docker",
    url=config.get("dockerUrl") or "unix:///var/run/docker.sock",
)
stack = portainer.Stack(
    "web",
    name=config.get("stackName") or "example-on-endpoint",
    endpoint_id=env.id,
    file_content=COMPOSE,
)
pulumi.export("endpoint_id", env.endpoint_id)
pulumi.export("endpoint_status", env.status)
pulumi.export("stack_id", stack.stack_id)
