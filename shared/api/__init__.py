"""The JSON API both roles serve under `/api/v1` (`router.api_router`); importing this package loads nothing."""
