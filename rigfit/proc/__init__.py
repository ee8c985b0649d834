"""Base: running subprocesses (worker scripts) bounded in time and output, in their own process group."""
