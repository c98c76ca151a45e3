"""Portainer under Pulumi's control: stacks, registries, users, webhooks, custom templates and
environments as Pulumi dynamic resources on one shared HTTP client."""

from .config import ConnectionArgs
from .custom_template import (
    CustomTemplate,
    CustomTemplateArgs,
    CustomTemplateGitArgs,
    CustomTemplateVariableArgs,
    GetCustomTemplateResult,
    get_custom_template,
    get_custom_template_output,
)
from .endpoint import Endpoint, EndpointArgs, GetEndpointResult, get_endpoint, get_endpoint_output
from .errors import APIError, ConfigError, InstanceMismatchError, PortainerError, TransportError
from .registry import (
    GetRegistryResult,
    Registry,
    RegistryArgs,
    RegistryEcrArgs,
    RegistryGitlabArgs,
    RegistryQuayArgs,
    get_registry,
    get_registry_output,
)
from .stack import (
    GetStackResult,
    Stack,
    StackArgs,
    StackGitArgs,
    StackGitAutoUpdateArgs,
    get_stack,
    get_stack_output,
)
from .status import GetStatusResult, get_status, get_status_output
from .user import GetUserResult, User, UserArgs, get_user, get_user_output
from .webhook import Webhook, WebhookArgs

__all__ = [
    "APIError",
    "ConfigError",
    "ConnectionArgs",
    "CustomTemplate",
    "CustomTemplateArgs",
    "CustomTemplateGitArgs",
    "CustomTemplateVariableArgs",
    "Endpoint",
    "EndpointArgs",
    "GetCustomTemplateResult",
    "GetEndpointResult",
    "GetRegistryResult",
    "GetStackResult",
    "GetStatusResult",
    "GetUserResult",
    "InstanceMismatchError",
    "PortainerError",
    "Registry",
    "RegistryArgs",
    "RegistryEcrArgs",
    "RegistryGitlabArgs",
    "RegistryQuayArgs",
    "Stack",
    "StackArgs",
    "StackGitArgs",
    "StackGitAutoUpdateArgs",
    "TransportError",
    "User",
    "UserArgs",
    "Webhook",
    "WebhookArgs",
    "get_custom_template",
    "get_custom_template_output",
    "get_endpoint",
    "get_endpoint_output",
    "get_registry",
    "get_registry_output",
    "get_stack",
    "get_stack_output",
    "get_status",
    "get_status_output",
    "get_user",
    "get_user_output",
]
