/*
 * A stand-in bcryptprimitives.dll for Wine versions that lack ProcessPrng
 * (Wine 8.0 in Debian 12). Go 1.24+ Windows binaries load ProcessPrng from
 * system32\bcryptprimitives.dll at start-up and abort without it, so the
 * smoke test puts this DLL into its own Wine prefix. It is never shipped.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -o bcryptprimitives.dll \
 *            bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

/* RtlGenRandom, exported by advapi32 under this name. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* ProcessPrng fills buf with len random bytes; it always succeeds. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE buf, SIZE_T len)
{
	while (len > 0) {
		ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!SystemFunction036(buf, chunk))
			return FALSE;
		buf += chunk;
		len -= chunk;
	}
	return TRUE;
}
