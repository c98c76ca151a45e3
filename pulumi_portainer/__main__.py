"""``python -m pulumi_portainer``: the ``pulumi-portainer`` command."""

from .cli import main

raise SystemExit(main())
