"""A compose stack deployed from a git repository, with a GitOps webhook that redeploys it.

pulumi config set portainer:url http://127.0.0.1:9000
pulumi config set --secret portainer:apiKey ptr_...
pulumi config set endpointId 1                                              # optional (default 1)
pulumi config set repoUrl https://github.com/portainer/hello-compose.git   # any repo with a compose file
pulumi config set reference refs/heads/main                               # optional
pulumi config set composePath docker-compose.yml                          # optional
pulumi config set gitUsername bot                                          # optional, private repos
pulumi config set --secret gitPassword ghp_...                             # optional, private repos

`git_commit` is the deployed commit. POST to the (secret) `webhook_url` to make Portainer pull and
redeploy when the branch moved; change `redeployTrigger` to force a redeploy from `pulumi up`.
"""

import pulumi

import pulumi_portainer as portainer

config = pulumi.Config()
stack = portainer.Stack(
    "app",
    endpoint_id=int(config.get("endpointId") or 1),
    name=config.get("stackName") or "example-git",
    git=portainer.StackGitArgs(
        url=config.require("repoUrl"),
        reference=config.get("reference"),
        compose_path=config.get("composePath"),
        username=config.get("gitUsername"),
        password=config.get_secret("gitPassword"),
        auto_update=portainer.StackGitAutoUpdateArgs(webhook=True),
    ),
    env={"APP_MODE": "production"},
    redeploy_trigger=config.get("redeployTrigger"),
)
pulumi.export("stack_id", stack.stack_id)
pulumi.export("git_commit", stack.git_commit)
pulumi.export("webhook_url", stack.webhook_url)
