/* ice_slot: the Redis Cluster hash slot of a key.
 *
 * CRC16 (XMODEM: polynomial 0x1021, initial value 0) of the key modulo
 * 16384, as the Redis Cluster specification defines it. When the key holds
 * a hash tag, only the tag is hashed: the bytes between the first '{' and
 * the first '}' after it, provided there is at least one byte between them
 * ("{user1}.a" and "{user1}.b" share a slot; "{}x" and "x{" hash whole). */
#ifndef ICE_SLOT_H
#define ICE_SLOT_H

#include <stddef.h>
#include <stdint.h>

#define ICE_SLOTS 16384

/* CRC16-XMODEM of n bytes at p. */
uint16_t ice_crc16(const void *p, size_t n);

/* The slot of the key of n bytes at key (binary-safe). */
int ice_slot(const void *key, size_t n);

#endif
