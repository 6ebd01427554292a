"""Import a log file a training tool wrote: detect its format, parse it, map its metric names."""
