"""A compose stack deployed from a local file, with env values (one of them secret).

pulumi config set portainer:url http://127.0.0.1:9000
pulumi config set --secret portainer:apiKey ptr_...
pulumi config set endpointId 1                                              # optional (default 1)
pulumi config set --secret apiToken 'not-for-your-eyes'
pulumi config set webPort 8080            # optional

Editing docker-compose.yml shows as a change of file_content in `pulumi preview`. GREETING and WEB_PORT
stay readable in preview diffs; API_TOKEN is secret in previews and state.
"""

import os

import pulumi

import pulumi_portainer as portainer

config = pulumi.Config()
stack = portainer.Stack(
    "web",
    endpoint_id=int(config.get("endpointId") or 1),
    name=config.get("stackName") or "example-web",
    # read in this process; relative paths are relative to the working directory, so anchor it here
    file_path=os.path.join(os.path.dirname(os.path.abspath(__file__)), "docker-compose.yml"),
    env={
        "GREETING": "hello from pulumi",
        "WEB_PORT": config.get_int("webPort") or 8080,
        "API_TOKEN": config.require_secret("apiToken"),
    },
)
pulumi.export("stack_id", stack.stack_id)
pulumi.export("status", stack.status)
pulumi.export("source_kind", stack.source_kind)
