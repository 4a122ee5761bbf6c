/* Clock, formatting and Kafka error names for the network side. */
#include "kc_net.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t kc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void kc_vfmt(char *buf, size_t size, const char *fmt, va_list ap)
{
    if (!buf || size == 0)
        return;
    if (vsnprintf(buf, size, fmt, ap) < 0)
        buf[0] = '\0';
}

void kc_fmt(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kc_vfmt(buf, size, fmt, ap);
    va_end(ap);
}

void kc_host_port(char *buf, size_t size, const char *host, uint16_t port)
{
    if (strchr(host, ':'))
        kc_fmt(buf, size, "[%s]:%u", host, (unsigned)port);
    else
        kc_fmt(buf, size, "%s:%u", host, (unsigned)port);
}

/* The codes a DescribeConnections exchange can meet (Kafka's
 * org.apache.kafka.common.protocol.Errors). */
static const struct {
    int16_t code;
    const char *name;
} kafka_errors[] = {
    {-1, "UNKNOWN_SERVER_ERROR"},
    {7, "REQUEST_TIMED_OUT"},
    {8, "BROKER_NOT_AVAILABLE"},
    {31, "CLUSTER_AUTHORIZATION_FAILED"},
    {33, "UNSUPPORTED_SASL_MECHANISM"},
    {34, "ILLEGAL_SASL_STATE"},
    {35, "UNSUPPORTED_VERSION"},
    {42, "INVALID_REQUEST"},
    {58, "SASL_AUTHENTICATION_FAILED"},
    {72, "LISTENER_NOT_FOUND"},
};

const char *kc_kafka_error_name(int16_t code, char *buf, size_t size)
{
    for (size_t i = 0; i < sizeof kafka_errors / sizeof kafka_errors[0]; i++)
        if (kafka_errors[i].code == code)
            return kafka_errors[i].name;
    kc_fmt(buf, size, "error %d", (int)code);
    return buf;
}
