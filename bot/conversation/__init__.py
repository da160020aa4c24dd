"""The neutral conversation layer: the router of inbound events and the views of what is sent."""
