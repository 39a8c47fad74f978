import { commandDriver } from './command.driver.ts';
import { defineConformance } from './kit.ts';

defineConformance(commandDriver);
