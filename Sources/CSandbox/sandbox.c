#include "sandbox.h"
int kindling_sandbox_placeholder(void) { return 0; }
