"""Surveys: questionnaires, the conversation engine and the survey use cases."""
