"""Running untrusted student code: a worker process behind a safe wire format."""
