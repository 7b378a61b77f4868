#ifndef KINDLING_SANDBOX_H
#define KINDLING_SANDBOX_H
// Placeholder; the sandboxed spawn lives here.
int kindling_sandbox_placeholder(void);
#endif
