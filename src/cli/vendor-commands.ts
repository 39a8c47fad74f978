import { PlayerCode } from '../wallet/types.ts';
import { catalogueRequest, gameJson, launchJson, launchRequest, providerJson, registrationJson, studioJson } from '../vendors/wire.ts';
import type { Registration } from '../vendors/vendors.ts';
import type { Command } from './commands.ts';
import { valid } from './input.ts';

const registrationLine = (r: Registration) => `${r.player} is ${r.userCode} at ${r.provider} (registered ${r.registeredAt.toISOString()})`;

/** The casino's calls to its vendors, as `/v1` makes them: registration, catalogue, launch. */
export const vendorCommands: Record<string, Command> = {
  providers: {
    synopsis: '',
    summary: "lists the configured providers, their dialect and whether their vendor's API is configured",
    args: 0,
    options: [],
    async run(ctx) {
      const providers = ctx.gateway().vendors.providers().map(providerJson);
      const lines = providers.map((p) => `${p.id.padEnd(16)} ${p.dialect.padEnd(8)} ${p.api ? `api (${p.api.currency})` : 'callbacks only'}`);
      ctx.out.answer({ providers }, lines);
      return 0;
    },
  },
  'player register': {
    synopsis: '<code> --provider <id>',
    summary: "registers a player with a provider's vendor, once, and keeps the vendor's user code",
    args: 1,
    options: ['provider'],
    required: ['provider'],
    async run(ctx, [code], v) {
      const result = await ctx.gateway().vendors.register(PlayerCode(code!), v.provider!);
      if (!result.ok) return ctx.out.refused(result.reason, result.detail);
      ctx.out.answer(registrationJson(result.value), [`${registrationLine(result.value)}${result.created ? '' : ' (already registered)'}`]);
      return 0;
    },
  },
  'player providers': {
    synopsis: '<code> [--provider <id>]',
    summary: "lists a player's vendor registrations; with --provider, that one and the vendor's own record of the user",
    args: 1,
    options: ['provider'],
    async run(ctx, [code], v) {
      const vendors = ctx.gateway().vendors;
      if (v.provider !== undefined) {
        const result = await vendors.user(PlayerCode(code!), v.provider);
        if (!result.ok) return ctx.out.refused(result.reason, result.detail);
        const vendor = result.value.vendor ?? null;
        ctx.out.answer({ ...registrationJson(result.value.registration), vendor }, [
          registrationLine(result.value.registration),
          ...(vendor ? [`vendor's record: ${JSON.stringify(vendor)}`] : []),
        ]);
        return 0;
      }
      const result = await vendors.registrations(PlayerCode(code!));
      if (!result.ok) return ctx.out.refused(result.reason, result.detail);
      const lines = result.value.map(registrationLine);
      ctx.out.answer({ player: code, registrations: result.value.map(registrationJson) }, lines.length ? lines : [`${code} is registered with no provider`]);
      return 0;
    },
  },
  studios: {
    synopsis: '--provider <id> [--lang <en>]',
    summary: 'lists the game studios behind an aggregating vendor',
    args: 0,
    options: ['provider', 'lang'],
    required: ['provider'],
    async run(ctx, _args, v) {
      const { lang } = valid(catalogueRequest, { lang: v.lang });
      const result = await ctx.gateway().vendors.studios(v.provider!, lang);
      if (!result.ok) return ctx.out.refused(result.reason, result.detail);
      const studios = result.value.map(studioJson);
      ctx.out.answer({ provider: v.provider, studios }, studios.map((s) => `${s.id.padEnd(20)} ${s.name}`));
      return 0;
    },
  },
  games: {
    synopsis: '--provider <id> [--studio <id>] [--lang <en>]',
    summary: "lists a provider's games (all studios unless --studio)",
    args: 0,
    options: ['provider', 'studio', 'lang'],
    required: ['provider'],
    async run(ctx, _args, v) {
      const query = valid(catalogueRequest, { lang: v.lang, studio: v.studio });
      const result = await ctx.gateway().vendors.games(v.provider!, query);
      if (!result.ok) return ctx.out.refused(result.reason, result.detail);
      const { currency } = result.value;
      const games = result.value.games.map((g) => gameJson(g, currency));
      const lines = games.map((g) => {
        const limits = g.limits ? `  ${g.limits.min}-${g.limits.max} ${currency}` : '';
        return `${g.id.padEnd(24)} ${g.name}${g.studio ? `  (${g.studio})` : ''}${limits}`;
      });
      ctx.out.answer({ provider: v.provider, currency, games }, lines.length ? lines : ['no games']);
      return 0;
    },
  },
  launch: {
    synopsis: '<code> --provider <id> --game <id> [--studio <id>] [--lang <en>] [--return-url <url>] [--bet-min <x> --bet-max <y>]',
    summary: "prints a one-time URL that opens the game for the player (registers the player with the vendor first if needed)",
    args: 1,
    options: ['provider', 'game', 'studio', 'lang', 'return-url', 'bet-min', 'bet-max'],
    required: ['provider', 'game'],
    async run(ctx, [code], v) {
      const limits = v['bet-min'] === undefined && v['bet-max'] === undefined ? undefined : { min: v['bet-min'], max: v['bet-max'] };
      const request = valid(launchRequest, { provider: v.provider, game: v.game, studio: v.studio, lang: v.lang, returnUrl: v['return-url'], limits });
      const { provider, ...options } = request;
      const result = await ctx.gateway().vendors.launch(PlayerCode(code!), provider, options);
      if (!result.ok) return ctx.out.refused(result.reason, result.detail);
      ctx.out.answer(launchJson(result.value), [result.value.url]);
      return 0;
    },
  },
};
