"""Browser tests: the citizen's web survey driven in Chromium on a phone-sized screen."""
