BEGIN { trace($9); trace($$8); }
