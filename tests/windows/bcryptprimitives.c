/* A stand-in for Windows' bcryptprimitives.dll, for tests under wine only: Rust's standard
 * library (1.78 and later) takes its random numbers from ProcessPrng in that DLL, which wine
 * 8.0 lacks, so a Rust program under wine exits with code 53 before main. Windows 10 and later
 * have the real DLL; this file is never shipped. Built at test time by
 * packaging/windows/env.sh (wine_prefix) and copied into the test prefix's system32. */
#include <windows.h>

/* advapi32's RtlGenRandom, exported as SystemFunction036. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
    while (size > 0) {
        ULONG chunk = size > 0x10000000 ? 0x10000000 : (ULONG)size;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        size -= chunk;
    }
    return TRUE;
}
