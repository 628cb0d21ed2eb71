/** The agent's version, reported at registration and in every status. */
export const AGENT_VERSION = '0.1.0';
