"""Custom templates from text and from a local file (read by the program; relative paths are relative to
its working directory, so this one is anchored to this file).

pulumi config set portainer:url http://127.0.0.1:9000
pulumi config set --secret portainer:apiKey ptr_...
"""

import os

import pulumi

import pulumi_portainer as portainer

variables = [
    portainer.CustomTemplateVariableArgs(name="tag", label="Image tag", default_value="alpine"),
    portainer.CustomTemplateVariableArgs(name="port", label="Published port", default_value="8080"),
]
from_file = portainer.CustomTemplate(
    "nginx",
    title="nginx (pulumi)",
    description="nginx with a chosen tag and port",
    type="standalone",
    file_path=os.path.join(os.path.dirname(os.path.abspath(__file__)), "template.yml"),
    variables=variables,
)
from_text = portainer.CustomTemplate(
    "whoami",
    portainer.CustomTemplateArgs(
        title="whoami (pulumi)",
        description="traefik/whoami on a swarm",
        type="swarm",
        note="Replies with the request it received.",
        file_content="services:\n  whoami:\n    image: traefik/whoami\n",
    ),
)
pulumi.export("nginx_template_id", from_file.custom_template_id)
pulumi.export("whoami_template_id", from_text.custom_template_id)
