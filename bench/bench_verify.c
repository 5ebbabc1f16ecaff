#include "ntlmssp.h"
int main(void) { return 0; }
