import type {Command} from '@oclif/core'

/** A help example of the command itself, `synthex <command> <args>`, with what it does. */
export function example(args: string, description: string): Command.Example {
  return {command: `<%= config.bin %> <%= command.id %>${args ? ` ${args}` : ''}`, description}
}
