// Placeholder: the topology library is being written (see certs/README.md).
