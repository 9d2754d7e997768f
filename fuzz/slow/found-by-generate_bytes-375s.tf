resourcecals {
  mutual_rules = [
   ---"10.0.0.1"--1----0--------sourk+e_prefix_li ----sourk+e_pref%{_li   %sourk+e_prefix_li ----sourk+e_pref%{_li   ---------"10.0.0.1"---{
  mumodule.m.sg_id10.20.0.0/k+e_pref%{_li   ---------"10.0.0.1"---{
  mumo.0/1%sourk+e_prefix_li ----sourk+e_pref%{_li   ---------"10.0.0.1"---{
---------"10.0.0.1"---{
  mumodule.m.sg_id10.20.0.0/1%sourk+e_prefix_li ----sourk+e_pref%{_li   ---------"10.0.0.1"---{
  mumodule.m.sg_id10.20.0.0/1%sourk+e_prefix_li ----sourk+e_pref%{
  mumodule.m.sg_id10.20.0.1/k+e_pref%{_li   ---------"10.0.0.1"---{
  mumodule.m.sg_id10.20.0.0/1%sourk+e_prefix_li ----sourk+e_pref%{_li   ---------"10.0.0.1"---{
  _id     = aws_s---1----0--------sourk+----i   ---"$${0.0.1"-dule.m.sg_id10.20.0.0/1%sourk+e_prefix_li ----sourk+e_pref%{_li   ---------"10.0.0.1"---{
---------"10.0.0.1"---{
  mumodule.m.sg_id10.20.0.0/1%sourk+e_prefix_li ----sourk+e_pref%{_li   ---------"10.0.0.1"---{
  mumodule.m.sg_id10.20.0.0/1%sourk+e_prefix_li ----sourk+e_pref%{
  mumodule.m.sg_id10.20.0.1/k+e_pref%{_li   ---------"10.0.0.1"---{
  mumodule.m.sg_id10.20.0.0/1%sourk+e_prefix_li ----sourk+e_pref%{_li   ---------"10.0.0.1"---{
  _id     = aws_s---1----0--------sourk+----i   ---"$${0.0.1"--_gourceb.i