"""The local harness: a Docker engine, a Portainer, the Pulumi CLI and a git server, started on this
machine for the end-to-end tests, the README's first command and developers."""
