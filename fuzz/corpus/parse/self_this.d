syscall::read:entry { self->ts = timestamp; }
syscall::read:return /self->ts/ { this->d = timestamp - self->ts; @t = quantize(this->d); self->ts = 0; }
