/* The programs of sockfix attach plus one the verifier refuses: loaded
 * through SOCKFIX_ATTACH_OBJECT, it shows how sockfix attach reports a
 * rejection (the verifier's last lines, nothing attached). */
#include "../../attach/sockfix.bpf.c"

SEC("sockops")
int sf_refused(struct bpf_sock_ops *s)
{
    return *(volatile __u32 *)((char *)s + 4096); /* past the end of the context */
}
