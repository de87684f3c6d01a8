"""Answer retrieval (ReQA): questions rank a pool of candidate sentences.

- :mod:`lsctl.retrieval.data`: the question and sentence artifacts, folds, the
  pool and each question's gold set (identical sentence texts count as gold).
- :mod:`lsctl.retrieval.bm25`: the BM25 baseline (sparse, no training).
- :mod:`lsctl.retrieval.rank`: scores → gold ranks and top-k lists, the ranked
  artifact, Recall@k and MRR.

docs/retrieval.md describes the artifacts and the equations.
"""
