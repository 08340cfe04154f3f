DROP TABLE draw_secrets;
