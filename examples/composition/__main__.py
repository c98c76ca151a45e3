"""Compositions of Portainer objects.

* an environment (endpoint) for a Docker engine in swarm mode -> a swarm stack on it (by `.id`) -> a
  service webhook on the stack's `web` service (through the stack's `services` output);
* a user and a registry whose passwords come from secret stack config.

    pulumi config set portainer:url http://127.0.0.1:9000
    pulumi config set --secret portainer:apiKey ptr_...
    pulumi config set --secret ciPassword 'a-long-password'
    pulumi config set --secret registryPassword '...'
    pulumi config set dockerUrl unix:///var/run/docker.sock     # optional: the engine as Portainer reaches it
    pulumi config set image traefik/whoami:latest               # optional
"""

import pulumi

import pulumi_portainer as portainer

config = pulumi.Config()
image = config.get("image") or "traefik/whoami:latest"

env = portainer.Endpoint(
    "swarm-env",
    name="composition-swarm",
    type="docker",
    url=config.get("dockerUrl") or "unix:///var/run/docker.sock",
)
app = portainer.Stack(
    "app",
    name="composition-app",
    type="swarm",
    endpoint_id=env.id,  # `.id` stays known during update previews
    file_content=f'version: "3.8"\nservices:\n  web:\n    image: {image}\n',
)
hook = portainer.Webhook(
    "app-web",
    service_id=app.services.apply(lambda services: services["web"]),
    endpoint_id=env.id,
)

ci = portainer.User("ci", username="composition-ci", password=config.require_secret("ciPassword"))
registry = portainer.Registry(
    "ci-registry",
    name="composition-ci",
    url=config.get("registryUrl") or "registry.example.com:5000",
    username=ci.username,
    password=config.require_secret("registryPassword"),
)

pulumi.export("endpoint_id", env.endpoint_id)
pulumi.export("stack_services", app.services)
pulumi.export("webhook_url", hook.url)  # secret
pulumi.export("registry_id", registry.registry_id)
