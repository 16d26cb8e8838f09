"""HTTP views of the authorization server."""
