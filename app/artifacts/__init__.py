"""Model and data uploads: checked before anything is stored, then kept in the artifact store."""
