int x;
string names[int];
self int depth;
this string tmp;
long long big;
unsigned char uc;
int64_t counts[string, int];

BEGIN { x = 1; names[1] = "one"; counts["a", 2] = 3; exit(0); }
