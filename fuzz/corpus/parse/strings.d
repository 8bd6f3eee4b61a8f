BEGIN { s = "tab\there\nnewline \"quoted\" \\ back \x41 \101"; printf("%s %d\n", s, strlen(s)); t = strjoin(s, "x"); trace(substr(t, 2, 3)); exit(0); }
