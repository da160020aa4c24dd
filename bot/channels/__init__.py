"""The channel seam: what every chat adapter implements and the neutral shapes it exchanges."""
