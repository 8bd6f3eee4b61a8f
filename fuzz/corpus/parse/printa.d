BEGIN { @["a"] = count(); @["b"] = count(); printa("%-10s %@d\n", @); printa(@); clear(@); trunc(@, 1); exit(0); }
