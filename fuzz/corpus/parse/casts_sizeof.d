BEGIN { x = (char)300; y = (unsigned int)-1; z = sizeof(int) + sizeof (x) + sizeof(long long); trace((uint8_t)x); exit(0); }
