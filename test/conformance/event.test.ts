import { eventDriver } from './event.driver.ts';
import { defineConformance } from './kit.ts';

defineConformance(eventDriver);
