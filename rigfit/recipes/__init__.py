"""Recipes rigfit writes for the user to run: container files, cluster manifests, torch source builds."""
