"""Recipes: what runs the planned stack somewhere else (container images, compose files, Kubernetes manifests)."""
