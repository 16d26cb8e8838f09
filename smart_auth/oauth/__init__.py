"""Authlib composition: grants, extensions, client authentication and endpoints."""
