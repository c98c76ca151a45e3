"""Registries whose passwords come from secret stack config.

pulumi config set portainer:url http://127.0.0.1:9000
pulumi config set --secret portainer:apiKey ptr_...
pulumi config set registryUrl registry.example.com:5000
pulumi config set registryUsername ci
pulumi config set --secret registryPassword '...'
pulumi config set --secret dockerhubToken 'dckr_pat_...'   # optional
"""

import pulumi

import pulumi_portainer as portainer

config = pulumi.Config()
private = portainer.Registry(
    "private",
    name="private",
    url=config.get("registryUrl") or "registry.example.com:5000",
    username=config.get("registryUsername") or "ci",
    password=config.require_secret("registryPassword"),
)
pulumi.export("private_registry_id", private.registry_id)

token = config.get_secret("dockerhubToken")
if config.get("dockerhubUsername"):
    hub = portainer.Registry(
        "dockerhub",
        portainer.RegistryArgs(
            name="dockerhub", type="dockerhub", username=config.get("dockerhubUsername"), password=token
        ),
    )
    pulumi.export("dockerhub_registry_id", hub.registry_id)
