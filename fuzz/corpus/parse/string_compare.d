BEGIN /"abc" < "abd"/ { trace("lt"); exit(0); }
