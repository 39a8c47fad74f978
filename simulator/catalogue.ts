/**
 * The made-up game studios a command-dialect vendor aggregates (its `/v4/game/providers` and
 * `/v4/game/games`). A game's symbol is the `game_code` its callbacks carry.
 */

export interface CatalogueGame {
  game_symbol: string;
  game_name: string;
  game_type: string;
}

export interface Studio {
  provider_id: string;
  name: string;
  games: readonly CatalogueGame[];
}

export const STUDIOS: readonly Studio[] = [
  {
    provider_id: 'aurora',
    name: 'Aurora Studios',
    games: [
      { game_symbol: 'aurora-gems', game_name: 'Gems of Aurora', game_type: 'slot' },
      { game_symbol: 'aurora-wolf', game_name: 'Northern Wolf', game_type: 'slot' },
    ],
  },
  {
    provider_id: 'redline',
    name: 'Redline Live',
    games: [
      { game_symbol: 'redline-baccarat', game_name: 'Speed Baccarat', game_type: 'live' },
      { game_symbol: 'redline-roulette', game_name: 'Lightning Wheel', game_type: 'live' },
    ],
  },
  {
    provider_id: 'pixelforge',
    name: 'Pixel Forge',
    games: [{ game_symbol: 'pixelforge-rocket', game_name: 'Rocket Crash', game_type: 'crash' }],
  },
];
