#pragma once

// The 64-byte tile configuration that LDTILECFG loads (Intel SDM vol. 1, "Intel AMX"; palette 1): 8 tile
// registers of up to 16 rows x 64 bytes. Shared by the scalar tile model (amx_tile_model.h), which checks
// it as the hardware does, and the intrinsics (x86/amx_gemm_intrinsics.cpp), which load it as it is.

#include <cstddef>
#include <cstdint>

namespace octet::gemm::amx {

constexpr int kTiles = 8;            // palette 1
constexpr int kMaxRows = 16;         // rows per tile
constexpr int kMaxRowBytes = 64;     // bytes per tile row ("colsb")
constexpr int kMaxColumnSlots = 16;  // the config has room for 16 tiles; palette 1 uses the first 8

struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;  // where an interrupted tile load resumes; 0 for a fresh configuration
  uint8_t reserved[14] = {};
  uint16_t colsb[kMaxColumnSlots] = {};  // bytes per row of tile i
  uint8_t rows[kMaxColumnSlots] = {};    // rows of tile i

  // Sets tile `t` to `r` rows of `bytes` bytes.
  constexpr TileConfig& tile(int t, int r, int bytes) {
    rows[t] = static_cast<uint8_t>(r);
    colsb[t] = static_cast<uint16_t>(bytes);
    return *this;
  }
};
static_assert(sizeof(TileConfig) == 64);
static_assert(offsetof(TileConfig, colsb) == 16 && offsetof(TileConfig, rows) == 48);

}  // namespace octet::gemm::amx
