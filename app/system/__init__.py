"""Operations: health and readiness probes, Prometheus metrics, request logging."""
