"""The provincial hub: its app, API, jobs, consolidation and exports."""
