BEGIN { trace(1) 
