"""Master/replica replication over the binlog: handshake, full sync, incremental stream."""
