/** A chunk handed to an answerer: what retrieval found, with where it came from. */
export interface RetrievedChunk {
  chunkId: string;
  documentId: string;
  /** 1-based page in the source document. */
  page: number;
  text: string;
  headingPath?: string[];
  documentTitle?: string;
  /** Retrieval score (fused); informative only. */
  score?: number;
}

/** Where a statement of an answer comes from, with the quoted passage. */
export interface Citation {
  documentId: string;
  chunkId: string;
  page: number;
  text: string;
}

/** An answer and its sources; `citations[i]` is the source marked `[i + 1]` in `answer`. */
export interface Answer {
  answer: string;
  citations: Citation[];
}

/** What answerers say when the retrieved chunks do not support an answer. */
export const NO_ANSWER = "I could not find an answer to that in this namespace's documents.";
