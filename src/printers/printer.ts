import type { Message } from '../message.js';

/** Turns a message into the text shown for it. Pure: no I/O, no state. */
export type Printer = (message: Message) => string;
